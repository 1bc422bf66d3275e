#!/bin/sh
# Skip a test, saying why.
echo "SKIP: $*"
exit 77
