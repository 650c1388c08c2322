# Two commands for a fresh machine with Python 3.11+ and make:
#   make run   — install, migrate the embedded SQLite database, load demo data once, serve on :5000
#   make test  — install the development dependencies and run the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app market
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install lint format worker bench clean

$(VENV)/.installed: pyproject.toml package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "需要 Python 3.11 或更新版本")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# axe-core (accessibility checks of the browser tests) from npm into node_modules/, at install
	@# time only; without npm those checks are skipped with the reason, nothing downloads later
	if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent || echo "npm ci 失败：浏览器测试的 axe-core 检查将跳过"; \
	else echo "未找到 npm：浏览器测试的 axe-core 检查将跳过"; fi
	touch $@

install: $(VENV)/.installed

run: install
	$(FLASK) db upgrade
	$(FLASK) seed demo --if-empty
	@echo "科技成果转化交易平台: http://$(HOST):$(PORT)（网站与后台 worker 一起运行，Ctrl+C 同时停止）"
	$(FLASK) serve --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy search vocab matching scheduling market

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: install
	$(FLASK) outbox work

clean:
	rm -rf $(VENV) instance/*.sqlite3* instance/*.joblib instance/outbox.bell
