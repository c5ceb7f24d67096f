#!/usr/bin/env bash
# One closing line over every runner's results (cargo test, vitest, node --test, desktop smoke).
logs=$1
cargo=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "%d %d %d", p, f, s }' "$logs/cargo.log" 2>/dev/null || echo "0 0 0")
read -r cp cf cs <<<"$cargo"
# Runners colour their output on some terminals: read the logs without escapes.
plain() { sed 's/\x1b\[[0-9;]*m//g' "$1" 2>/dev/null; }
# vitest: "Tests  43 passed (43)"; node --test: "ℹ pass 19" / "ℹ fail 0"; smoke: "1 passed, 0 failed".
vitest_line=$(plain "$logs/ui.log" | grep -aE '^ *Tests +' | tail -1)
vp=$(grep -oE '[0-9]+ passed' <<<"$vitest_line" | grep -oE '[0-9]+')
vf=$(grep -oE '[0-9]+ failed' <<<"$vitest_line" | grep -oE '[0-9]+')
np=$(plain "$logs/ui.log" | grep -aoE '^ℹ pass [0-9]+' | grep -oE '[0-9]+' | tail -1)
nf=$(plain "$logs/ui.log" | grep -aoE '^ℹ fail [0-9]+' | grep -oE '[0-9]+' | tail -1)
dp=$(plain "$logs/desktop.log" | grep -aoE '^[0-9]+ passed, [0-9]+ failed' | tail -1 | awk '{print $1}')
df=$(plain "$logs/desktop.log" | grep -aoE '^[0-9]+ passed, [0-9]+ failed' | tail -1 | awk '{print $3}')
echo "cargo: $cp passed, $cf failed, $cs skipped"
echo "vitest: ${vp:-0} passed, ${vf:-0} failed"
echo "browser: ${np:-0} passed, ${nf:-0} failed"
echo "desktop: ${dp:-0} passed, ${df:-0} failed"
total_p=$((cp + ${vp:-0} + ${np:-0} + ${dp:-0}))
total_f=$((cf + ${vf:-0} + ${nf:-0} + ${df:-0}))
echo "all: $total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
