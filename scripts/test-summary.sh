#!/usr/bin/env bash
# One closing line over every runner's results (cargo test, vitest, node --test, desktop smoke).
logs=$1
cargo=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "%d %d %d", p, f, s }' "$logs/cargo.log" 2>/dev/null || echo "0 0 0")
read -r cp cf cs <<<"$cargo"
# vitest: "Tests  43 passed (43)"; node --test: "ℹ pass 19" / "ℹ fail 0"; smoke: "1 passed, 0 failed".
vp=$(grep -aoE 'Tests +[0-9]+ passed' "$logs/ui.log" 2>/dev/null | grep -oE '[0-9]+' | tail -1)
vf=$(grep -aoE 'Tests +.*[0-9]+ failed' "$logs/ui.log" 2>/dev/null | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' | tail -1)
np=$(grep -aoE '^ℹ pass [0-9]+' "$logs/ui.log" 2>/dev/null | grep -oE '[0-9]+' | tail -1)
nf=$(grep -aoE '^ℹ fail [0-9]+' "$logs/ui.log" 2>/dev/null | grep -oE '[0-9]+' | tail -1)
dp=$(grep -aoE '^[0-9]+ passed, [0-9]+ failed' "$logs/desktop.log" 2>/dev/null | tail -1 | awk '{print $1}')
df=$(grep -aoE '^[0-9]+ passed, [0-9]+ failed' "$logs/desktop.log" 2>/dev/null | tail -1 | awk '{print $3}')
echo "cargo: $cp passed, $cf failed, $cs skipped"
echo "vitest: ${vp:-0} passed, ${vf:-0} failed"
echo "browser: ${np:-0} passed, ${nf:-0} failed"
echo "desktop: ${dp:-0} passed, ${df:-0} failed"
total_p=$((cp + ${vp:-0} + ${np:-0} + ${dp:-0}))
total_f=$((cf + ${vf:-0} + ${nf:-0} + ${df:-0}))
echo "all: $total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
