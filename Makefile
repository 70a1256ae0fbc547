# `make demo` and `make test` are the only commands a fresh machine needs:
# each creates .venv and installs on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench bench-agentdojo histories clean system-tools

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,agentdojo,models]'
	touch $(STAMP)

install: $(STAMP)

# In a terminal the demo asks before starting the stack and at the approval
# (approve? [y/N]); without one, --yes does both (the demo approver's key).
demo: $(STAMP)
	$(VENV)/bin/sealed demo $$([ -t 0 ] || echo --yes)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy sealed bench

# From Debian, when missing: docker-compose validates docker-compose.yml (no
# engine needed); chromium is the browser the Web UI test drives.
system-tools:
	@command -v docker-compose >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >/dev/null \
	  || echo "docker-compose unavailable: its check will be skipped"; }
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >/dev/null \
	  || echo "chromium unavailable: the Web UI browser test will fail"; }

test: lint system-tools
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(PY) -m bench.mission_overhead
	$(PY) -m bench.credentials
	$(PY) -m bench.redaction
	$(PY) -m bench.replay
	$(PY) -m bench.approval
	$(PY) -m bench.directives
	$(PY) -m bench.violation

# AgentDojo through the runtime (issue 12): every suite under the tuned attack
# with every defence, then each held-out attack against no controls and the
# default ones; and the injection screen on the same material. Long: hours.
bench-agentdojo: $(STAMP)
	$(PY) -m bench.agentdojo
	$(PY) -m bench.agentdojo --defence none --defence everything \
	  $(foreach a,$(AGENTDOJO_HELD_OUT),--attack $(a))
	$(PY) -m bench.agentdojo.screen

AGENTDOJO_HELD_OUT := ignore_previous system_message injecagent direct tool_knowledge \
  important_instructions_no_user_name important_instructions_no_model_name \
  important_instructions_no_names important_instructions_wrong_model_name \
  important_instructions_wrong_user_name

# Regenerates the committed histories tests/unit/test_replay.py replays (see README).
histories: $(STAMP)
	$(PY) -m tests.record_histories

clean:
	rm -rf $(VENV) .sealed
