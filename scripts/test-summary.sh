#!/usr/bin/env bash
# Adds up cargo test's "test result" lines into one closing line.
log=$1
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "cargo: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
