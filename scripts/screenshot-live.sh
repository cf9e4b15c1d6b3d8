#!/usr/bin/env bash
# Capture the live progress view of `orchestrator run examples/tiny_spec.yaml` in a real terminal
# (a detached tmux pane, 100x30): a frame caught while steps run, and the screen after the job ended.
#
#   scripts/screenshot-live.sh [OUT_DIR]        # default: docs/screenshots; SKIP_BUILD=1 to use dist/ as is
#
# Writes OUT_DIR/live-progress.txt (final screen, plain text), live-progress.ansi (the same with
# colours, `cat` it in a terminal) and, when one was caught, live-progress-running.txt (mid-run).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "${1:-$root/docs/screenshots}" && cd "${1:-$root/docs/screenshots}" && pwd)"

if ! command -v tmux >/dev/null; then
  echo "installing tmux" >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y tmux >&2; else sudo apt-get install -y tmux >&2; fi
fi
# Build first so the picture shows the current code (SKIP_BUILD=1 uses dist/ as it is).
[ "${SKIP_BUILD:-}" = 1 ] || (cd "$root" && npm run --silent build >&2)

work="$(mktemp -d)"
sock="orch-screenshot-$$" # a private tmux server: never touches the user's sessions
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The pane runs the job as a user would (a TTY, colours, CI unset), then keeps the screen open.
cat > "$work/job.sh" <<SH
cd "$work"
unset CI NO_COLOR
export ORCH_RUNS_DIR="$work/runs"
node "$root/bin/orchestrator.js" run "$root/examples/tiny_spec.yaml"
echo "exit code \$?" > "$work/finished"
sleep 600
SH
tmux -L "$sock" -f /dev/null new-session -d -s shot -x 100 -y 30 "bash $work/job.sh"

# Poll the pane while the job runs; keep the last frame that shows a running step.
deadline=$((SECONDS + 120))
while [ ! -f "$work/finished" ]; do
  if [ "$SECONDS" -gt "$deadline" ]; then
    echo "the job did not finish within 120 s" >&2
    exit 1
  fi
  frame="$(tmux -L "$sock" capture-pane -p -t shot)"
  if grep -q ' running ' <<<"$frame"; then printf '%s\n' "$frame" > "$out/live-progress-running.txt"; fi
  sleep 0.03
done
sleep 0.3 # let the last bytes reach the pane

tmux -L "$sock" capture-pane -p -e -t shot > "$out/live-progress.ansi"
tmux -L "$sock" capture-pane -p -t shot | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$out/live-progress.txt"
echo "$(cat "$work/finished"); wrote:" >&2
ls -1 "$out"/live-progress* >&2
