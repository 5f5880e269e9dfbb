#!/usr/bin/env bash
# Run every HomeIQ service's (and shared library's) own tests, each in an isolated uv environment.
#
#   scripts/run-tests.sh                 # all services and libs
#   scripts/run-tests.sh data-api rag-service
#
# Environments go to $HOMEIQ_ENVS (default: a fresh temporary directory, removed at the end
# unless HOMEIQ_KEEP_ENVS=1). Needs uv and Python 3.11; the MQTT tests need mosquitto.
set -uo pipefail

FLEET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON_VERSION="${HOMEIQ_PYTHON:-3.11}"
if [[ -z "${HOMEIQ_ENVS:-}" ]]; then
    HOMEIQ_ENVS="$(mktemp -d -t homeiq-envs.XXXXXX)"
    [[ "${HOMEIQ_KEEP_ENVS:-0}" == "1" ]] || trap 'rm -rf "$HOMEIQ_ENVS"' EXIT
fi
mkdir -p "$HOMEIQ_ENVS"

if ! command -v uv >/dev/null 2>&1; then
    echo "uv is required: pip install uv" >&2
    exit 2
fi

# Print the install arguments for a Pipfile or a Poetry pyproject (runtime + dev dependencies).
manifest_args() {
    "$1" - "$2" <<'PY'
import re, sys, tomllib
from pathlib import Path

manifest = Path(sys.argv[1])
data = tomllib.loads(manifest.read_text())

def poetry_spec(value):
    value = value.strip()
    if value in ("", "*"):
        return ""
    if value[0] == "^":
        parts = [int(p) for p in value[1:].split(".")]
        upper = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
        bound = parts[: upper + 1]
        bound[-1] += 1
        return f">={value[1:]},<{'.'.join(map(str, bound))}"
    if value[0] == "~" and value[1:2] != "=":
        parts = value[1:].split(".")
        bound = [parts[0], str(int(parts[1]) + 1)] if len(parts) > 1 else [str(int(parts[0]) + 1)]
        return f">={value[1:]},<{'.'.join(bound)}"
    if re.match(r"^\d", value):
        return "==" + value
    return value

def emit(name, value, poetry):
    if isinstance(value, dict):
        if "path" in value:
            print(("-e\n" if value.get("editable") or value.get("develop") else "") + str(manifest.parent / value["path"]))
            return
        value = value.get("version", "*")
    print(name + (poetry_spec(value) if poetry else ("" if value == "*" else value)))

if manifest.name == "Pipfile":
    for section in ("packages", "dev-packages"):
        for name, value in data.get(section, {}).items():
            emit(name, value, poetry=False)
else:
    poetry = data["tool"]["poetry"]
    print("-e\n" + str(manifest.parent))
    groups = [poetry.get("dev-dependencies", {})] + [g.get("dependencies", {}) for g in poetry.get("group", {}).values()]
    for group in groups:
        for name, value in group.items():
            emit(name, value, poetry=True)
PY
}

install() {  # install <service dir> <venv python>
    local dir="$1" py="$2"
    local -a args
    if [[ -f "$dir/requirements-dev.txt" ]]; then
        args=(-r requirements-dev.txt)
    elif [[ -f "$dir/Pipfile" ]]; then
        mapfile -t args < <(manifest_args "$py" "$dir/Pipfile")
    elif [[ -f "$dir/pyproject.toml" ]] && grep -q '^\[tool\.poetry\]' "$dir/pyproject.toml"; then
        mapfile -t args < <(manifest_args "$py" "$dir/pyproject.toml")
    elif [[ -f "$dir/pyproject.toml" ]] && grep -q '^\[project\]' "$dir/pyproject.toml"; then
        args=(-e ".[test]")
    elif [[ -f "$dir/setup.cfg" || -f "$dir/setup.py" ]]; then
        args=(-e ".[test]")
    elif [[ -f "$dir/requirements.txt" ]]; then
        args=(-r requirements.txt)
    else
        echo "no manifest found" >&2
        return 1
    fi
    (cd "$dir" && uv pip install --quiet --python "$py" "${args[@]}")
}

has_tests() {
    [[ -d "$1/tests" ]] || compgen -G "$1/test_*.py" >/dev/null
}

declare -a targets
if (($#)); then
    for name in "$@"; do
        for candidate in "$FLEET_DIR/services/$name" "$FLEET_DIR/libs/$name"; do
            [[ -d "$candidate" ]] && targets+=("$candidate")
        done
    done
else
    targets=("$FLEET_DIR"/libs/*/ "$FLEET_DIR"/services/*/)
fi

declare -a report
failures=0
for dir in "${targets[@]}"; do
    dir="${dir%/}"
    name="$(basename "$dir")"
    env="$HOMEIQ_ENVS/$name"
    log="$HOMEIQ_ENVS/$name.log"
    echo "==> $name"
    start=$SECONDS
    if ! uv venv --quiet --allow-existing "$env" --python "$PYTHON_VERSION" >"$log" 2>&1 \
        || ! install "$dir" "$env/bin/python" >>"$log" 2>&1; then
        echo "    install FAILED (see $log)"; tail -n 20 "$log" | sed 's/^/    /'
        report+=("$(printf '%-22s %-8s %s' "$name" "FAIL" "install failed")")
        failures=$((failures + 1))
        continue
    fi
    if ! has_tests "$dir"; then
        echo "    installed; no tests"
        report+=("$(printf '%-22s %-8s %s' "$name" "ok" "installed, no tests ($((SECONDS - start))s)")")
        continue
    fi
    (cd "$dir" && "$env/bin/python" -m pytest -q -p no:cacheprovider) >>"$log" 2>&1
    rc=$?
    summary="$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)|no tests ran' "$log" | tail -n 1 | sed 's/=//g; s/^ *//; s/ *$//')"
    if ((rc == 0)); then
        report+=("$(printf '%-22s %-8s %s' "$name" "ok" "$summary ($((SECONDS - start))s)")")
    else
        echo "    tests FAILED (exit $rc)"; tail -n 30 "$log" | sed 's/^/    /'
        report+=("$(printf '%-22s %-8s %s' "$name" "FAIL" "exit $rc: $summary")")
        failures=$((failures + 1))
    fi
done

echo
echo "HomeIQ fleet test summary"
printf '%s\n' "${report[@]}"
echo "$((${#report[@]} - failures)) of ${#report[@]} passed"
((failures == 0))
