# dealergate — the two commands a new machine needs are `make demo` and `make test`.
# Both create the environment first (idempotent, quick when already set up).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SYSTEM_STAMP := var/.system-deps

.PHONY: demo test env system-deps eval eval-robust schema bench bench-screens clean help

help:
	@echo "make demo   — 一键演示 / run broker + server + edge on a sample gate clip"
	@echo "make test   — 运行全部测试 / run the whole test suite"
	@echo "make eval   — 车牌识别评测 / score plate reading on ../shared/datasets"
	@echo "make eval-robust — 鲁棒性评测 / easypr_dev under darker, brighter, blurred, rescaled ... photos"
	@echo "make bench  — 边缘性能基准 / edge speed, latency, idle CPU, accuracy as one JSON object"
	@echo "make bench-screens — 前台大屏延迟 / MQTT publish → card on 50 front-desk screens, one JSON object"
	@echo "make bench-server — 门店服务器基准 / arrival → alerts on 300k customers, SQLite and PostgreSQL, one JSON object"

env: $(STAMP) $(SYSTEM_STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Debian packages the product and the tests need (CJK fonts for plate rendering, ...).
$(SYSTEM_STAMP): scripts/setup-system.sh
	scripts/setup-system.sh
	@mkdir -p var && touch $(SYSTEM_STAMP)

system-deps: $(SYSTEM_STAMP)

demo: env
	$(BIN)/dealergate demo

test: env
	$(BIN)/python -m pytest

# plate reading on ../shared/datasets (easypr full scenes, real crops) and fixed-seed synthetic crops
eval: env
	$(BIN)/python models/run_eval.py

# easypr_dev again under photometric and scale changes (models/README.md, "Robustness"): ~1 min once its copies exist.
eval-robust: env
	$(BIN)/python models/run_eval.py --only easypr_dev --robustness

schema: env
	$(BIN)/dealergate contract schema

# Generates its clips once (var/bench/), then runs the edge pipeline on them: ~3 min on a 2-core box.
bench: env
	$(BIN)/dealergate bench edge --json

# Broker + server + 50 front-desk screens (1 chromium page, 49 WebSocket clients), 20 arrivals: ~15 s.
bench-screens: env
	$(BIN)/dealergate bench screens --json

# 300k customers / 1M policies seeded once into var/bench/ (SQLite; PostgreSQL in a throw-away
# cluster), then arrival → three pushed payloads: p95 build time and arrivals per second.
.PHONY: bench-server
bench-server: env
	$(BIN)/dealergate bench server --json

clean:
	rm -rf var/demo .pytest_cache

-include models/train.mk
