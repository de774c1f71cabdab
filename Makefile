# Diaspora Bridge — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LANGUAGES := en fr es pt ar ru uk sw de it tr fa ur hi bn zh_Hans
# `make test` runs pytest twice at once: the tests not marked `serial` in TEST_WORKERS processes
# (pytest-xdist; they mostly wait on sockets and databases, so a few more processes than cores pay
# off; 0: one process) and, beside them, the `serial` ones (bots and Chromium started, killed and
# restarted, crash tests included, waiting only on conditions) in two processes of their own (xdist,
# work stealing, so neither ends long after the other). No test bounds a time that a busy machine
# could break: it only slows them down. Both always run; either failing fails it.
# Python may write its bytecode caches (some machines turn that off): every bot process the tests
# start, and every pytest process, would compile the same modules again.
unexport PYTHONDONTWRITEBYTECODE
TEST_WORKERS ?= 3

.PHONY: run test sandbox bench migrate messages compile-messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

compile-messages: $(STAMP)
	$(BIN)/pybabel compile --statistics -d locales -D messages

## Set up and start the bot (prints how to get a token when BOT_TOKEN is not set).
run: $(STAMP) compile-messages
	$(BIN)/diaspora-bridge run

## Set up and run the whole suite: ruff, then pytest (in parallel, with the bot-process tests beside).
test: $(STAMP) compile-messages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@beside_log=$$(mktemp); \
	$(BIN)/python -m pytest -m serial -n 2 --dist worksteal >"$$beside_log" 2>&1 & beside=$$!; \
	trap 'kill $$beside 2>/dev/null; rm -f "$$beside_log"' INT TERM; \
	status=0; \
	$(BIN)/python -m pytest -m "not serial" -n $(TEST_WORKERS) --dist worksteal || status=1; \
	wait $$beside || status=1; \
	echo "---- the bot-process tests, run beside the others ----"; cat "$$beside_log"; \
	rm -f "$$beside_log"; \
	exit $$status

## The bot in your browser, with no token and no internet.
sandbox: $(STAMP) compile-messages
	$(BIN)/diaspora-bridge sandbox --demo

## Benchmarks (figures printed; not part of the test suite); bench.scale needs PostgreSQL, bench.updates
## takes it from TEST_DATABASE_URL (else SQLite).
bench: $(STAMP) compile-messages
	$(BIN)/python -m bench.broadcast
	$(BIN)/python -m bench.reminders
	$(BIN)/python -m bench.surveys
	$(BIN)/python -m bench.resources
	$(BIN)/python -m bench.confederation
	$(BIN)/python -m bench.updates
	$(BIN)/python -m bench.scale

migrate: $(STAMP)
	$(BIN)/diaspora-bridge migrate

## Extract the strings to translate and merge them into every catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract --project=diaspora-bridge --no-location --sort-output \
	  -k __ -k ngettext:1,2 -o locales/messages.pot bot handlers
	for lang in $(LANGUAGES); do \
	  if [ -f locales/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update --ignore-obsolete --no-fuzzy-matching -i locales/messages.pot -d locales -D messages -l $$lang; \
	  else \
	    $(BIN)/pybabel init -i locales/messages.pot -d locales -D messages -l $$lang; \
	  fi; \
	done
	$(BIN)/python -m bot.catalogs fill-source
	$(BIN)/python -m bot.catalogs check || true

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
