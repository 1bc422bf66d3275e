// SPDX-License-Identifier: MIT
//
// softcore: a synthesizable reference design of the soft-core of
// docs/softcore.md, version 1.0, with the ports a PCIe bridge IP presents to
// user logic (docs/softcore-rtl.md):
//
//   s_axil_*  BAR0: registers and doorbells (AXI4-Lite slave, 32-bit data)
//   s_lmem_*  BAR2: local memory, block RAM (AXI4-Lite slave, DW-bit data)
//   m_axi_*   DMA to host memory (AXI4 master, INCR bursts, DW-bit data);
//             SLVERR/DECERR on a command's data is a DMA_FAULT
//   msix_*    MSI-X requests (vector, valid/ack): one per queue pair
//
// One command engine serves the queues round-robin, one command at a time:
// fetch the 64-byte entry, check it, move the data in chunks of CH bytes
// through a staging buffer (never crossing a 4 KiB boundary in one burst),
// write the 16-byte completion with its phase tag, raise the vector.
// CRC32C runs over the staging buffer a byte per clock; CRC16 of a
// GUARDED_WRITE is one combinational function of its 8 bytes.
//
// Everything is synchronous to clk; rst_n is a synchronous active-low
// reset (the function reset).  SCRATCH, GUARDED[] and local memory are not
// reset, as the spec says they survive CTRL.EN = 0 (and the model keeps
// them over a function reset too).
module softcore #(
    parameter int NQ         = 4,          // queue pairs (CAP.NQ), 1..56
    parameter int QDEPTH     = 1024,       // largest ring (CAP.MQES + 1), 2..32768
    parameter int LMEM_BYTES = 1 << 20,    // local memory, a power of two
    parameter int DW         = 64,         // AXI data width: 32, 64 or 128
    parameter int MAX_XFER   = 1 << 20     // MAX_XFER register
) (
    input  logic                     clk,
    input  logic                     rst_n,

    // BAR0: AXI4-Lite slave, 16-bit addresses (64 KiB), 32-bit data
    input  logic [15:0]              s_axil_awaddr,
    input  logic                     s_axil_awvalid,
    output logic                     s_axil_awready,
    input  logic [31:0]              s_axil_wdata,
    input  logic [3:0]               s_axil_wstrb,
    input  logic                     s_axil_wvalid,
    output logic                     s_axil_wready,
    output logic [1:0]               s_axil_bresp,
    output logic                     s_axil_bvalid,
    input  logic                     s_axil_bready,
    input  logic [15:0]              s_axil_araddr,
    input  logic                     s_axil_arvalid,
    output logic                     s_axil_arready,
    output logic [31:0]              s_axil_rdata,
    output logic [1:0]               s_axil_rresp,
    output logic                     s_axil_rvalid,
    input  logic                     s_axil_rready,

    // BAR2: AXI4-Lite slave over local memory, DW-bit data
    input  logic [$clog2(LMEM_BYTES)-1:0] s_lmem_awaddr,
    input  logic                     s_lmem_awvalid,
    output logic                     s_lmem_awready,
    input  logic [DW-1:0]            s_lmem_wdata,
    input  logic [DW/8-1:0]          s_lmem_wstrb,
    input  logic                     s_lmem_wvalid,
    output logic                     s_lmem_wready,
    output logic [1:0]               s_lmem_bresp,
    output logic                     s_lmem_bvalid,
    input  logic                     s_lmem_bready,
    input  logic [$clog2(LMEM_BYTES)-1:0] s_lmem_araddr,
    input  logic                     s_lmem_arvalid,
    output logic                     s_lmem_arready,
    output logic [DW-1:0]            s_lmem_rdata,
    output logic [1:0]               s_lmem_rresp,
    output logic                     s_lmem_rvalid,
    input  logic                     s_lmem_rready,

    // DMA: AXI4 master (ID 0, INCR bursts of at most CH/W + 1 beats)
    output logic [63:0]              m_axi_awaddr,
    output logic [7:0]               m_axi_awlen,
    output logic [2:0]               m_axi_awsize,
    output logic [1:0]               m_axi_awburst,
    output logic                     m_axi_awvalid,
    input  logic                     m_axi_awready,
    output logic [DW-1:0]            m_axi_wdata,
    output logic [DW/8-1:0]          m_axi_wstrb,
    output logic                     m_axi_wlast,
    output logic                     m_axi_wvalid,
    input  logic                     m_axi_wready,
    input  logic [1:0]               m_axi_bresp,
    input  logic                     m_axi_bvalid,
    output logic                     m_axi_bready,
    output logic [63:0]              m_axi_araddr,
    output logic [7:0]               m_axi_arlen,
    output logic [2:0]               m_axi_arsize,
    output logic [1:0]               m_axi_arburst,
    output logic                     m_axi_arvalid,
    input  logic                     m_axi_arready,
    input  logic [DW-1:0]            m_axi_rdata,
    input  logic [1:0]               m_axi_rresp,
    input  logic                     m_axi_rlast,
    input  logic                     m_axi_rvalid,
    output logic                     m_axi_rready,

    // MSI-X: a request for msix_vector, held until acknowledged
    output logic                     msix_valid,
    output logic [7:0]               msix_vector,
    input  logic                     msix_ack,

    // Simulation aids (leave unconnected in hardware): the engine is idle,
    // and a read-only register (STATUS, ERR_COUNT, QSTATUS, GUARDED) changed
    output logic                     o_idle,
    output logic                     o_reg_event
);
    // ---- constants ----------------------------------------------------------
    localparam int W    = DW / 8;              // bytes per beat
    localparam int LW   = $clog2(W);
    localparam int LMW  = $clog2(LMEM_BYTES);
    localparam int LMWORDS = LMEM_BYTES / W;
    localparam int CH   = 64;                  // chunk bytes
    localparam int SW   = $clog2(CH / W + 2);  // staging words: a chunk, +1 misalign, +1 spare,
    localparam int STG  = 1 << SW;             // rounded to a power of two (plain indexing)
    localparam int SQE_BEATS = 64 / W;
    localparam int CQE_BEATS = 16 / W;
    localparam logic [15:0] MQES = 16'(QDEPTH - 1);
    localparam logic [31:0] CAP = {3'b0, 1'b1, 4'd0, 8'(NQ), MQES};

    localparam logic [7:0] OP_NOP = 8'h00, OP_COPY = 8'h01, OP_FILL = 8'h02,
                           OP_CRC = 8'h03, OP_WRITE = 8'h04, OP_READ = 8'h05,
                           OP_GW = 8'h06;
    localparam logic [7:0] ST_OK = 8'h00, ST_BAD_OPCODE = 8'h01, ST_BAD_LENGTH = 8'h02,
                           ST_DMA_FAULT = 8'h03, ST_CRC_MISMATCH = 8'h04,
                           ST_BAD_FIELD = 8'h05;

    // ---- CRCs ---------------------------------------------------------------
    // CRC32C (Castagnoli, reflected): one byte into the running value.
    function automatic logic [31:0] crc32c_byte(input logic [31:0] c, input logic [7:0] d);
        logic [31:0] x;
        x = c ^ {24'b0, d};
        for (int i = 0; i < 8; i++)
            x = x[0] ? ((x >> 1) ^ 32'h82F63B78) : (x >> 1);
        crc32c_byte = x;
    endfunction

    // CRC-16/CCITT-FALSE over 8 bytes, byte 0 in bits 7:0.
    function automatic logic [15:0] crc16_8(input logic [63:0] bytes);
        logic [15:0] c;
        c = 16'hFFFF;
        for (int b = 0; b < 8; b++) begin
            c = c ^ {bytes[8*b +: 8], 8'b0};
            for (int i = 0; i < 8; i++)
                c = c[15] ? ((c << 1) ^ 16'h1021) : (c << 1);
        end
        crc16_8 = c;
    endfunction

    // ---- registers ----------------------------------------------------------
    logic        ctrl_en, ctrl_ie, fatal;
    logic [31:0] scratch, err_count;
    logic [63:0] sq_base [NQ];
    logic [63:0] cq_base [NQ];
    logic [15:0] sq_m1 [NQ];            // SIZE fields: entries minus one
    logic [15:0] cq_m1 [NQ];
    logic        qen [NQ];
    logic        ien [NQ];
    logic [7:0]  qvec [NQ];
    logic        qact [NQ];             // accepted (QSTATUS.ACTIVE while enabled)
    logic        qerr [NQ];
    logic [15:0] sq_tail [NQ];          // doorbells
    logic [15:0] cq_head [NQ];
    logic [15:0] sq_head [NQ];          // device-side ring state
    logic [15:0] cq_tail [NQ];
    logic        phase [NQ];
    logic [31:0] guarded [64];          // distributed RAM: one write, one read port

    initial begin
        scratch = 32'h0;
        for (int i = 0; i < 64; i++) guarded[i] = 32'h0;
    end

    // ---- engine state (declared early: the register file looks at it) -------
    typedef enum logic [4:0] {
        S_IDLE, S_FETCH_AR, S_FETCH_R, S_DECODE, S_CH_SETUP, S_SRC_AR, S_SRC_R,
        S_LM_RD, S_CRC, S_DST_AW, S_DST_W, S_DST_B, S_LM_WR, S_CH_NEXT,
        S_CQ_AW, S_CQ_W, S_CQ_B
    } state_t;
    state_t      st;
    logic [$clog2(NQ > 1 ? NQ : 2)-1:0] cur_q, rr_q;
    logic        eng_on_q [NQ];
    always_comb
        for (int q = 0; q < NQ; q++)
            eng_on_q[q] = (st != S_IDLE) && (32'(cur_q) == q);

    // QSTATUS.ACTIVE: accepted and enabled, or, after QEN was cleared, as
    // long as the queue's command is being executed or its interrupt is
    // still on its way (set, pending or requested): once ACTIVE reads 0 the
    // queue pair causes no DMA and no interrupt (the queue-pair reset of
    // softcore.md)
    logic [NQ-1:0] irq_pend;
    logic          irq_set;
    logic [7:0]    irq_set_vec;
    logic          q_active [NQ];
    always_comb
        for (int q = 0; q < NQ; q++)
            q_active[q] = qact[q] || eng_on_q[q] ||
                          (irq_set && irq_set_vec == qvec[q]) ||
                          (msix_valid && msix_vector == qvec[q]) ||
                          (32'(qvec[q]) < NQ && irq_pend[qvec[q][$clog2(NQ > 1 ? NQ : 2)-1:0]]);

    // ---- BAR0: AXI4-Lite writes ---------------------------------------------
    wire        bw_fire = s_axil_awvalid && s_axil_wvalid && !s_axil_bvalid;
    wire [15:0] bw_addr = {s_axil_awaddr[15:2], 2'b00};
    wire [31:0] bw_mask = {{8{s_axil_wstrb[3]}}, {8{s_axil_wstrb[2]}},
                           {8{s_axil_wstrb[1]}}, {8{s_axil_wstrb[0]}}};
    assign s_axil_awready = bw_fire;
    assign s_axil_wready  = bw_fire;
    assign s_axil_bresp   = 2'b00;

    function automatic logic [31:0] merge(input logic [31:0] old, input logic [31:0] nw,
                                          input logic [31:0] m);
        merge = (old & ~m) | (nw & m);
    endfunction

    // queue set-up block addressed by a write: 0x100 + 0x20*q
    wire        bw_qblk = (bw_addr >= 16'h0100) && (bw_addr < 16'h0100 + 16'(32 * NQ));
    wire [15:0] bw_qoff = bw_addr - 16'h0100;
    wire [5:0]  bw_q    = bw_qoff[10:5];
    wire [4:0]  bw_reg  = bw_qoff[4:0];
    wire        bw_db   = (bw_addr >= 16'h1000) && (bw_addr < 16'h1000 + 16'(8 * NQ));
    wire [15:0] bw_dboff = bw_addr - 16'h1000;
    wire [5:0]  bw_dbq  = bw_dboff[8:3];
    wire        bw_dbcq = bw_dboff[2];

    // engine outputs consumed by the register file
    logic        eng_sq_adv, eng_cq_adv, eng_err, eng_gw, eng_fatal;
    logic [5:0]  eng_gw_idx;
    logic [31:0] eng_gw_val;

    function automatic logic [15:0] inc_wrap(input logic [15:0] v, input logic [15:0] m1);
        inc_wrap = (v == m1) ? 16'h0 : v + 16'h1;
    endfunction

    // a queue enable is accepted when the soft-core is enabled, both sizes
    // are 2 .. MQES+1 and both bases are 4 KiB aligned
    function automatic logic setup_ok(input logic en, input logic [11:0] sb,
                                      input logic [11:0] cb, input logic [15:0] s1,
                                      input logic [15:0] c1);
        setup_ok = en && s1 != 16'h0 && s1 <= MQES && c1 != 16'h0 && c1 <= MQES &&
               sb == 12'h0 && cb == 12'h0;
    endfunction

    always_ff @(posedge clk) begin
        if (bw_fire && bw_addr == 16'h0018)
            scratch <= merge(scratch, s_axil_wdata, bw_mask);
        if (eng_gw)
            guarded[eng_gw_idx] <= eng_gw_val;
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            ctrl_en <= 1'b0; ctrl_ie <= 1'b0; fatal <= 1'b0; err_count <= 32'h0;
            s_axil_bvalid <= 1'b0;
            for (int q = 0; q < NQ; q++) begin
                sq_base[q] <= 64'h0; cq_base[q] <= 64'h0; sq_m1[q] <= 16'h0;
                cq_m1[q] <= 16'h0; qen[q] <= 1'b0; ien[q] <= 1'b0; qvec[q] <= 8'h0;
                qact[q] <= 1'b0; qerr[q] <= 1'b0; sq_tail[q] <= 16'h0;
                cq_head[q] <= 16'h0; sq_head[q] <= 16'h0; cq_tail[q] <= 16'h0;
                phase[q] <= 1'b1;
            end
        end else begin
            if (s_axil_bvalid && s_axil_bready)
                s_axil_bvalid <= 1'b0;
            if (bw_fire)
                s_axil_bvalid <= 1'b1;
            // engine side effects
            if (eng_err)
                err_count <= err_count + 32'h1;
            if (eng_fatal)
                fatal <= 1'b1;
            for (int q = 0; q < NQ; q++) begin
                if (eng_sq_adv && 32'(cur_q) == q)
                    sq_head[q] <= inc_wrap(sq_head[q], sq_m1[q]);
                if (eng_cq_adv && 32'(cur_q) == q) begin
                    cq_tail[q] <= inc_wrap(cq_tail[q], cq_m1[q]);
                    if (cq_tail[q] == cq_m1[q])
                        phase[q] <= ~phase[q];
                end
                // a doorbell out of range is fatal (CFS) until CTRL.EN = 0
                if (qact[q] && (sq_tail[q] > sq_m1[q] || cq_head[q] > cq_m1[q]))
                    fatal <= 1'b1;
            end
            // host writes
            if (bw_fire && bw_addr == 16'h0010) begin
                /* verilator lint_off UNUSEDSIGNAL */
                logic [31:0] c;
                /* verilator lint_on UNUSEDSIGNAL */
                c = merge({30'b0, ctrl_ie, ctrl_en}, s_axil_wdata, bw_mask);
                ctrl_en <= c[0];
                ctrl_ie <= c[1];
                if (!c[0]) begin
                    // disable: every queue stops, status and error count clear
                    fatal <= 1'b0;
                    err_count <= 32'h0;
                    for (int q = 0; q < NQ; q++) begin
                        qen[q] <= 1'b0; qact[q] <= 1'b0; qerr[q] <= 1'b0;
                        sq_tail[q] <= 16'h0; cq_head[q] <= 16'h0;
                    end
                end
            end
            if (bw_fire && bw_qblk) begin
                for (int q = 0; q < NQ; q++) begin
                    if (32'(bw_q) == q) begin
                        case (bw_reg)
                        5'h00: sq_base[q][31:0]  <= merge(sq_base[q][31:0], s_axil_wdata, bw_mask);
                        5'h04: sq_base[q][63:32] <= merge(sq_base[q][63:32], s_axil_wdata, bw_mask);
                        5'h08: cq_base[q][31:0]  <= merge(cq_base[q][31:0], s_axil_wdata, bw_mask);
                        5'h0c: cq_base[q][63:32] <= merge(cq_base[q][63:32], s_axil_wdata, bw_mask);
                        5'h10: begin
                            logic [31:0] s;
                            s = merge({cq_m1[q], sq_m1[q]}, s_axil_wdata, bw_mask);
                            sq_m1[q] <= s[15:0];
                            cq_m1[q] <= s[31:16];
                        end
                        5'h14: begin
                            /* verilator lint_off UNUSEDSIGNAL */
                            logic [31:0] c;
                            /* verilator lint_on UNUSEDSIGNAL */
                            c = merge({16'b0, qvec[q], 6'b0, ien[q], qen[q]}, s_axil_wdata, bw_mask);
                            qen[q]  <= c[0];
                            ien[q]  <= c[1];
                            qvec[q] <= c[15:8];
                            if (c[0] && !qen[q]) begin
                                // enable: check the set-up; rings start empty
                                qact[q] <= setup_ok(ctrl_en, sq_base[q][11:0], cq_base[q][11:0],
                                                    sq_m1[q], cq_m1[q]);
                                qerr[q] <= !setup_ok(ctrl_en, sq_base[q][11:0], cq_base[q][11:0],
                                                     sq_m1[q], cq_m1[q]);
                                sq_head[q] <= 16'h0; cq_tail[q] <= 16'h0; phase[q] <= 1'b1;
                            end
                            if (!c[0] && qen[q]) begin
                                // disable: pending commands are dropped
                                qact[q] <= 1'b0; qerr[q] <= 1'b0;
                                sq_tail[q] <= 16'h0; cq_head[q] <= 16'h0;
                            end
                        end
                        default: ;
                        endcase
                    end
                end
            end
            if (bw_fire && bw_db) begin
                for (int q = 0; q < NQ; q++) begin
                    if (32'(bw_dbq) == q) begin
                        if (bw_dbcq)
                            cq_head[q] <= s_axil_wdata[15:0];
                        else
                            sq_tail[q] <= s_axil_wdata[15:0];
                    end
                end
            end
        end
    end

    // ---- BAR0: AXI4-Lite reads ----------------------------------------------
    wire        br_qblk = (s_axil_araddr >= 16'h0100) && (s_axil_araddr < 16'h0100 + 16'(32 * NQ));
    wire [15:0] br_qoff = s_axil_araddr - 16'h0100;
    wire [15:0] br_dboff = s_axil_araddr - 16'h1000;
    logic [31:0] rd_val;
    logic        busy_any;
    assign busy_any = st != S_IDLE;

    always_comb begin
        rd_val = 32'h0;
        case ({s_axil_araddr[15:2], 2'b00})
        16'h0000: rd_val = 32'h5C0FC0DE;
        16'h0004: rd_val = 32'h0001_0000;
        16'h0008: rd_val = CAP;
        16'h000c: rd_val = 32'(LMEM_BYTES);
        16'h0010: rd_val = {30'b0, ctrl_ie, ctrl_en};
        // RDY: enabled, or still finishing a command after EN was cleared
        16'h0014: rd_val = {30'b0, fatal, ctrl_en || busy_any};
        16'h0018: rd_val = scratch;
        16'h001c: rd_val = 32'(MAX_XFER);
        16'h0020: rd_val = err_count;
        default: begin
            if (s_axil_araddr >= 16'h0800 && s_axil_araddr < 16'h0900)
                rd_val = guarded[s_axil_araddr[7:2]];
            for (int q = 0; q < NQ; q++) begin
                if (br_qblk && 32'(br_qoff[10:5]) == q) begin
                    case ({br_qoff[4:2], 2'b00})
                    5'h00: rd_val = sq_base[q][31:0];
                    5'h04: rd_val = sq_base[q][63:32];
                    5'h08: rd_val = cq_base[q][31:0];
                    5'h0c: rd_val = cq_base[q][63:32];
                    5'h10: rd_val = {cq_m1[q], sq_m1[q]};
                    5'h14: rd_val = {16'b0, qvec[q], 6'b0, ien[q], qen[q]};
                    5'h18: rd_val = {30'b0, qerr[q], q_active[q]};
                    default: ;
                    endcase
                end
                if (s_axil_araddr >= 16'h1000 && 32'(br_dboff[15:3]) == q)
                    rd_val = {16'b0, br_dboff[2] ? cq_head[q] : sq_tail[q]};
            end
        end
        endcase
    end

    assign s_axil_arready = !s_axil_rvalid;
    assign s_axil_rresp   = 2'b00;
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            s_axil_rvalid <= 1'b0;
            s_axil_rdata  <= 32'h0;
        end else begin
            if (s_axil_rvalid && s_axil_rready)
                s_axil_rvalid <= 1'b0;
            if (s_axil_arvalid && s_axil_arready) begin
                s_axil_rvalid <= 1'b1;
                s_axil_rdata  <= rd_val;
            end
        end
    end

    // read-only values changed: a hint for a simulation harness that mirrors
    // them (see docs/simdev.md); unused in hardware
    logic [34+2*NQ-1:0] status_sig, prev_status;
    always_comb begin
        status_sig[33:0] = {fatal, ctrl_en || busy_any, err_count};
        for (int q = 0; q < NQ; q++)
            status_sig[34 + 2*q +: 2] = {qerr[q], q_active[q]};
    end
    always_ff @(posedge clk) begin
        prev_status <= status_sig;
        o_reg_event <= (status_sig != prev_status) || eng_gw;
    end

    // ---- local memory: two ports (BAR2 slave, engine) -----------------------
    logic [DW-1:0]     lmem [LMWORDS];
    logic [LMW-LW-1:0] la_addr, lb_addr;
    logic [W-1:0]      la_we, lb_we;
    logic [DW-1:0]     la_wdata, lb_wdata, la_rdata, lb_rdata;

    always_ff @(posedge clk) begin
        for (int b = 0; b < W; b++) begin
            if (la_we[b]) lmem[la_addr][8*b +: 8] <= la_wdata[8*b +: 8];
            if (lb_we[b]) lmem[lb_addr][8*b +: 8] <= lb_wdata[8*b +: 8];
        end
        la_rdata <= lmem[la_addr];
        lb_rdata <= lmem[lb_addr];
    end

    // BAR2 slave: a write takes address and data together; a read answers
    // the clock after the block RAM does
    wire lw_fire = s_lmem_awvalid && s_lmem_wvalid && !s_lmem_bvalid;
    logic lr_pend;
    wire lr_fire = s_lmem_arvalid && !lr_pend && !s_lmem_rvalid && !lw_fire;
    assign s_lmem_awready = lw_fire;
    assign s_lmem_wready  = lw_fire;
    assign s_lmem_arready = lr_fire;
    assign s_lmem_bresp   = 2'b00;
    assign s_lmem_rresp   = 2'b00;
    assign la_addr  = lw_fire ? s_lmem_awaddr[LMW-1:LW] : s_lmem_araddr[LMW-1:LW];
    assign la_we    = lw_fire ? s_lmem_wstrb : '0;
    assign la_wdata = s_lmem_wdata;
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            s_lmem_bvalid <= 1'b0;
            s_lmem_rvalid <= 1'b0;
            lr_pend <= 1'b0;
        end else begin
            if (s_lmem_bvalid && s_lmem_bready) s_lmem_bvalid <= 1'b0;
            if (lw_fire) s_lmem_bvalid <= 1'b1;
            if (s_lmem_rvalid && s_lmem_rready) s_lmem_rvalid <= 1'b0;
            lr_pend <= lr_fire;
            if (lr_pend) begin
                s_lmem_rvalid <= 1'b1;
                s_lmem_rdata <= la_rdata;
            end
        end
    end

    // Bits the design does not decode: sub-word address bits (accesses are
    // whole words), the low bit of AXI responses (OKAY vs EXOKAY, SLVERR vs
    // DECERR: both errors are a DMA_FAULT), the upper offset bits of the
    // register decoders.
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_ok = &{1'b0, s_axil_awaddr[1:0], s_lmem_awaddr[LW-1:0],
                       s_lmem_araddr[LW-1:0], m_axi_bresp[0], m_axi_rresp[0],
                       bw_qoff, bw_dboff, br_qoff, br_dboff, irq_set_vec};
    /* verilator lint_on UNUSEDSIGNAL */

    // ---- the command engine ---------------------------------------------------
    logic [DW-1:0] sqe_w [SQE_BEATS];   // the entry, as fetched
    logic [511:0]  sqe;
    always_comb
        for (int i = 0; i < SQE_BEATS; i++)
            sqe[DW*i +: DW] = sqe_w[i];

    logic [7:0]  opc, status;
    logic [15:0] cid, cqe_sqhead;
    logic [63:0] src, dst;              // host IOVAs or local memory offsets
    logic [31:0] rem, result, crc;
    logic [6:0]  n;                     // bytes in this chunk, 1..CH
    logic [7:0]  beat, nbeats_src, nbeats_dst;
    logic [6:0]  cidx;                  // CRC byte index in the staging buffer
    logic        fault, counted;
    logic [DW-1:0] stg [STG];
    logic [DW-1:0] pat;                 // FILL: the pattern, rotated to ADDR1

    // queue readiness: active, work in the SQ, room in the CQ (one slot
    // always stays empty), the soft-core enabled and not in fatal error
    logic ready [NQ];
    always_comb
        for (int q = 0; q < NQ; q++)
            ready[q] = ctrl_en && !fatal && qen[q] && qact[q] && sq_head[q] != sq_tail[q] &&
                       inc_wrap(cq_tail[q], cq_m1[q]) != cq_head[q];

    // round-robin pick, starting after the last queue served
    logic        pick_ok;
    logic [$clog2(NQ > 1 ? NQ : 2)-1:0] pick_q;
    always_comb begin
        pick_ok = 1'b0;
        pick_q = rr_q;
        for (int i = NQ; i >= 1; i--) begin
            int idx;
            idx = 32'(rr_q) + i;
            if (idx >= NQ) idx = idx - NQ;
            if (ready[idx]) begin
                pick_ok = 1'b1;
                pick_q = idx[$bits(pick_q)-1:0];
            end
        end
    end

    // chunk geometry
    wire        src_host = opc != OP_READ;
    wire        dst_host = opc != OP_WRITE;
    wire [12:0] src_room = src_host ? 13'h1000 - {1'b0, src[11:0]} : 13'h1000;
    wire [12:0] dst_room = dst_host ? 13'h1000 - {1'b0, dst[11:0]} : 13'h1000;
    logic [31:0] n_calc;
    always_comb begin
        n_calc = (rem < CH) ? rem : CH;
        if (32'(src_room) < n_calc) n_calc = 32'(src_room);
        if (32'(dst_room) < n_calc) n_calc = 32'(dst_room);
    end
    wire [LW-1:0] so = src[LW-1:0];
    wire [LW-1:0] dof = dst[LW-1:0];
    wire [7:0]    src_beats_c = 8'((32'(so) + n_calc - 1) >> LW) + 8'd1;
    wire [7:0]    dst_beats_c = 8'((32'(dof) + n_calc - 1) >> LW) + 8'd1;

    // destination beat j: bytes of the staging buffer shifted by so - dof
    logic [DW-1:0] shifted;
    logic [W-1:0]  dmask;
    // Byte b of destination beat j is staging byte j*W + b + so - dof: from
    // words j and j+1 when so >= dof, j-1 and j otherwise (j-1 = -1 only for
    // bytes before ADDR1, which the strobes mask).
    always_comb begin
        logic          lag;
        logic [SW-1:0] k;
        logic [LW-1:0] sh;
        logic [9:0]    pos;
        logic [2*DW-1:0] pair;
        lag = so < dof;
        sh = so - dof;
        k = beat[SW-1:0] - SW'(lag);
        pair = {stg[k + SW'(1)], (lag && beat == 8'h0) ? {DW{1'b0}} : stg[k]};
        shifted = DW'(pair >> (8 * sh));
        for (int b = 0; b < W; b++) begin
            pos = 10'(beat) * 10'(W) + 10'(b);
            dmask[b] = pos >= 10'(dof) && pos < 10'(dof) + 10'(n);
        end
    end

    // the completion entry, bytes 0..15
    wire [127:0] cqe = {7'b0, status, phase[cur_q], cid, 16'(cur_q), cqe_sqhead,
                        32'h0, result};

    // GUARDED_WRITE checks (fields of the fetched entry)
    wire [31:0] gw_off = sqe[44*8 +: 32];
    wire [31:0] gw_val = sqe[48*8 +: 32];
    wire [15:0] gw_crc = sqe[52*8 +: 16];
    wire        gw_crc_ok = crc16_8({gw_val, gw_off}) == gw_crc;
    wire        gw_off_ok = gw_off >= 32'h800 && gw_off <= 32'h8FC && gw_off[1:0] == 2'b00;

    // stop a command whose queue was disabled (or the soft-core)
    wire abort = !ctrl_en || !qen[cur_q];

    // AXI master defaults
    assign m_axi_awsize  = 3'(LW);
    assign m_axi_arsize  = 3'(LW);
    assign m_axi_awburst = 2'b01;
    assign m_axi_arburst = 2'b01;
    assign o_idle = st == S_IDLE && !msix_valid;

    always_comb begin
        m_axi_arvalid = 1'b0; m_axi_araddr = 64'h0; m_axi_arlen = 8'h0;
        m_axi_rready = 1'b0;
        m_axi_awvalid = 1'b0; m_axi_awaddr = 64'h0; m_axi_awlen = 8'h0;
        m_axi_wvalid = 1'b0; m_axi_wdata = '0; m_axi_wstrb = '0; m_axi_wlast = 1'b0;
        m_axi_bready = 1'b0;
        lb_addr = src[LMW-1:LW] + (LMW-LW)'(beat);
        lb_we = '0; lb_wdata = shifted;
        case (st)
        S_FETCH_AR: begin
            m_axi_arvalid = 1'b1;
            m_axi_araddr = sq_base[cur_q] + {42'b0, sq_head[cur_q], 6'b0};
            m_axi_arlen = 8'(SQE_BEATS - 1);
        end
        S_FETCH_R, S_SRC_R: m_axi_rready = 1'b1;
        S_SRC_AR: begin
            m_axi_arvalid = 1'b1;
            m_axi_araddr = {src[63:LW], {LW{1'b0}}};
            m_axi_arlen = nbeats_src - 8'd1;
        end
        S_DST_AW: begin
            m_axi_awvalid = 1'b1;
            m_axi_awaddr = {dst[63:LW], {LW{1'b0}}};
            m_axi_awlen = nbeats_dst - 8'd1;
        end
        S_DST_W: begin
            m_axi_wvalid = 1'b1;
            m_axi_wdata = (opc == OP_FILL) ? pat : shifted;
            m_axi_wstrb = dmask;
            m_axi_wlast = beat == nbeats_dst - 8'd1;
        end
        S_DST_B, S_CQ_B: m_axi_bready = 1'b1;
        S_LM_WR: begin
            lb_addr = dst[LMW-1:LW] + (LMW-LW)'(beat);
            lb_we = dmask;
        end
        S_CQ_AW: begin
            m_axi_awvalid = !abort && counted;
            m_axi_awaddr = cq_base[cur_q] + {44'b0, cq_tail[cur_q], 4'b0};
            m_axi_awlen = 8'(CQE_BEATS - 1);
        end
        S_CQ_W: begin
            m_axi_wvalid = 1'b1;
            m_axi_wdata = cqe[DW*beat[$clog2(CQE_BEATS > 1 ? CQE_BEATS : 2)-1:0] +: DW];
            m_axi_wstrb = '1;
            m_axi_wlast = beat == 8'(CQE_BEATS - 1);
        end
        default: ;
        endcase
    end

    always_ff @(posedge clk) begin
        eng_sq_adv <= 1'b0;
        eng_cq_adv <= 1'b0;
        eng_err <= 1'b0;
        eng_gw <= 1'b0;
        eng_fatal <= 1'b0;
        irq_set <= 1'b0;
        if (!rst_n) begin
            st <= S_IDLE;
            cur_q <= '0;
            rr_q <= '0;
            beat <= 8'h0;
        end else begin
            case (st)
            // not in the clock after a fetch or a completion: the ring
            // pointers it moved are updated at the end of that clock
            S_IDLE: if (pick_ok && !eng_cq_adv && !eng_sq_adv) begin
                counted <= 1'b0;
                cur_q <= pick_q;
                rr_q <= pick_q;
                beat <= 8'h0;
                st <= S_FETCH_AR;
            end
            S_FETCH_AR: if (m_axi_arready) st <= S_FETCH_R;
            S_FETCH_R: if (m_axi_rvalid) begin
                sqe_w[beat[$clog2(SQE_BEATS)-1:0]] <= m_axi_rdata;
                if (m_axi_rresp[1]) fault <= 1'b1;
                beat <= beat + 8'd1;
                if (m_axi_rlast) begin
                    st <= S_DECODE;
                    eng_sq_adv <= 1'b1;
                    cqe_sqhead <= inc_wrap(sq_head[cur_q], sq_m1[cur_q]);
                end
            end
            S_DECODE: begin
                opc <= sqe[7:0];
                cid <= sqe[31:16];
                rem <= sqe[40*8 +: 32];
                src <= (sqe[7:0] == OP_READ) ? {32'b0, sqe[44*8 +: 32]} : sqe[24*8 +: 64];
                dst <= (sqe[7:0] == OP_WRITE) ? {32'b0, sqe[44*8 +: 32]} : sqe[32*8 +: 64];
                for (int b = 0; b < W; b++)
                    pat[8*b +: 8] <= sqe[44*8 + 8*((b - 32'(sqe[32*8 +: LW])) & 3) +: 8];
                crc <= 32'hFFFFFFFF;
                result <= 32'h0;
                status <= ST_OK;
                st <= S_CQ_AW;
                if (fault) begin
                    // the entry itself could not be read: fatal
                    eng_fatal <= 1'b1;
                    st <= S_IDLE;
                end else begin
                    case (sqe[7:0])
                    OP_NOP: ;
                    OP_COPY, OP_FILL, OP_CRC, OP_WRITE, OP_READ: begin
                        if (sqe[40*8 +: 32] == 32'h0 || sqe[40*8 +: 32] > 32'(MAX_XFER) ||
                            (sqe[7:0] == OP_FILL && sqe[40*8 +: 2] != 2'b00) ||
                            ((sqe[7:0] == OP_WRITE || sqe[7:0] == OP_READ) &&
                             {1'b0, sqe[44*8 +: 32]} + {1'b0, sqe[40*8 +: 32]} > 33'(LMEM_BYTES)))
                            status <= ST_BAD_LENGTH;
                        else
                            st <= S_CH_SETUP;
                    end
                    OP_GW: begin
                        if (!gw_crc_ok)
                            status <= ST_CRC_MISMATCH;
                        else if (!gw_off_ok)
                            status <= ST_BAD_FIELD;
                        else begin
                            eng_gw <= 1'b1;
                            eng_gw_idx <= gw_off[7:2];
                            eng_gw_val <= gw_val;
                        end
                    end
                    default: status <= ST_BAD_OPCODE;
                    endcase
                end
                fault <= 1'b0;
            end
            S_CH_SETUP: begin
                n <= n_calc[6:0];
                nbeats_src <= src_beats_c;
                nbeats_dst <= dst_beats_c;
                cidx <= {{(7-LW){1'b0}}, so};
                beat <= 8'h0;
                if (abort)
                    st <= S_IDLE;
                else if (opc == OP_FILL)
                    st <= S_DST_AW;
                else if (opc == OP_READ)
                    st <= S_LM_RD;
                else
                    st <= S_SRC_AR;
            end
            S_SRC_AR: if (m_axi_arready) st <= S_SRC_R;
            S_SRC_R: if (m_axi_rvalid) begin
                stg[beat[SW-1:0]] <= m_axi_rdata;
                if (m_axi_rresp[1]) fault <= 1'b1;
                beat <= beat + 8'd1;
                if (m_axi_rlast) begin
                    beat <= 8'h0;
                    if (fault || m_axi_rresp[1]) begin
                        status <= ST_DMA_FAULT;
                        fault <= 1'b0;
                        st <= S_CQ_AW;
                    end else if (opc == OP_CRC)
                        st <= S_CRC;
                    else if (opc == OP_WRITE)
                        st <= S_LM_WR;
                    else
                        st <= S_DST_AW;
                end
            end
            S_LM_RD: begin
                // lb_addr = word of src + beat; data arrives a clock later
                if (beat != 8'h0)
                    stg[SW'(beat - 8'd1)] <= lb_rdata;
                if (beat == nbeats_src) begin
                    beat <= 8'h0;
                    st <= S_DST_AW;
                end else
                    beat <= beat + 8'd1;
            end
            S_CRC: begin
                crc <= crc32c_byte(crc, stg[SW'(cidx >> LW)][8 * 32'(cidx[LW-1:0]) +: 8]);
                cidx <= cidx + 7'd1;
                if (cidx == 7'(32'(so) + 32'(n) - 1))
                    st <= S_CH_NEXT;
            end
            S_DST_AW: if (m_axi_awready) st <= S_DST_W;
            S_DST_W: if (m_axi_wready) begin
                beat <= beat + 8'd1;
                if (beat == nbeats_dst - 8'd1)
                    st <= S_DST_B;
            end
            S_DST_B: if (m_axi_bvalid) begin
                if (m_axi_bresp[1]) begin
                    status <= ST_DMA_FAULT;
                    st <= S_CQ_AW;
                end else
                    st <= S_CH_NEXT;
            end
            S_LM_WR: begin
                beat <= beat + 8'd1;
                if (beat == nbeats_dst - 8'd1)
                    st <= S_CH_NEXT;
            end
            S_CH_NEXT: begin
                src <= src + 64'(n);
                dst <= dst + 64'(n);
                rem <= rem - 32'(n);
                if (rem == 32'(n)) begin
                    if (opc == OP_CRC)
                        result <= ~crc;
                    st <= S_CQ_AW;
                end else
                    st <= S_CH_SETUP;
            end
            S_CQ_AW: begin
                // ERR_COUNT moves a clock before the completion is
                // requested, so it is never behind a completion the host sees
                beat <= 8'h0;
                if (!counted) begin
                    counted <= 1'b1;
                    eng_err <= status != ST_OK;
                end
                if (abort)
                    st <= S_IDLE;       // dropped: the queue was disabled
                else if (counted && m_axi_awready)
                    st <= S_CQ_W;
            end
            S_CQ_W: if (m_axi_wready) begin
                beat <= beat + 8'd1;
                if (beat == 8'(CQE_BEATS - 1))
                    st <= S_CQ_B;
            end
            S_CQ_B: if (m_axi_bvalid) begin
                st <= S_IDLE;
                if (m_axi_bresp[1])
                    eng_fatal <= 1'b1;  // the completion was lost
                else if (qact[cur_q]) begin
                    eng_cq_adv <= 1'b1;
                    if (ctrl_ie && ien[cur_q] && 32'(qvec[cur_q]) < NQ) begin
                        irq_set <= 1'b1;
                        irq_set_vec <= qvec[cur_q];
                    end
                end
            end
            default: st <= S_IDLE;
            endcase
        end
    end

    // ---- MSI-X: one pending bit per vector ------------------------------------
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            irq_pend <= '0;
            msix_valid <= 1'b0;
            msix_vector <= 8'h0;
        end else begin
            logic [NQ-1:0] p;
            p = irq_pend;
            if (irq_set)
                p[irq_set_vec[$clog2(NQ > 1 ? NQ : 2)-1:0]] = 1'b1;
            if (msix_valid && msix_ack)
                msix_valid <= 1'b0;
            else if (!msix_valid) begin
                for (int v = NQ - 1; v >= 0; v--) begin
                    if (p[v]) begin
                        msix_vector <= 8'(v);
                        msix_valid <= 1'b1;
                    end
                end
                begin
                    logic found;
                    found = 1'b0;
                    for (int v = 0; v < NQ; v++) begin
                        if (p[v] && !found) begin
                            p[v] = 1'b0;
                            found = 1'b1;
                        end
                    end
                end
            end
            irq_pend <= p;
        end
    end
endmodule
