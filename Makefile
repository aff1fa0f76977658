# 创城网格地图 gridmap — the two commands of the README:
#   make run    install, build the demo city if the database is empty, serve http://127.0.0.1:8501
#               (and the Open311 API on http://127.0.0.1:8502, stopped with the dashboard)
#   make test   install (plus the test tools, PostGIS and Chromium), run the whole test suite on SpatiaLite
#               and PostGIS, on 2 workers (pytest.ini); PYTEST_ARGS="-n 0" runs it in one process
#   make docs-screenshots   refresh the README screenshots (docs/screenshots/) from their browser tests
#   make cluster            a city's deployment on this machine: nginx on http://127.0.0.1:8080 in front of
#                           2 dashboard processes and the API (/api/), reading a streaming replica (5433)
#                           of the PostgreSQL on 5432 (bench/cluster.py; README "多进程部署")
#   make cluster-stop       stop it: nothing left running, the replica removed
# Both work on a fresh Debian 12 machine as root, and do nothing twice.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
APT_STAMP := /var/lib/apt/lists/.gridmap-updated
PG_VERSION ?= 15

.PHONY: run test docs-screenshots bench demo cluster cluster-stop system-run system-test system-cluster postgres clean

run: system-run $(STAMP)
	$(PY) -m gis demo --if-empty
	$(PY) -m gis api --port 8502 & api=$$!; trap 'kill $$api' EXIT; \
	$(PY) app.py --server.address 127.0.0.1 --server.port 8501

test: system-test $(TEST_STAMP) postgres
	$(PY) -m pytest -ra $(PYTEST_ARGS)

# The README's screenshots: the browser tests write tests/screenshots/ (gitignored); this copies them.
# The wall's is taken once its map labels are placed (tests/test_wall_labels_browser.py waits for them).
docs-screenshots: system-test $(TEST_STAMP)
	GRIDMAP_TEST_BACKENDS=spatialite $(PY) -m pytest -q -n 0 tests/test_wall_labels_browser.py -k "1920 or overview"
	cp tests/screenshots/wall_labels_1920_spatialite.png docs/screenshots/wall.png
	cp tests/screenshots/grid_page_1920_spatialite.png docs/screenshots/grid.png
	GRIDMAP_TEST_BACKENDS=spatialite $(PY) -m pytest -q -n 0 tests/test_mobile_browser.py
	cp tests/screenshots/mobile_locate_spatialite.png docs/screenshots/mobile_report.png
	cp tests/screenshots/mobile_todo_spatialite.png docs/screenshots/mobile_todo.png
	cp tests/screenshots/mobile_inspect_spatialite.png docs/screenshots/mobile_inspect.png
	$(PY) -m pytest -q -n 0 tests/test_planner_browser.py -k demo_city
	cp tests/screenshots/planner_demo_midedit.png docs/screenshots/planner.png
	GRIDMAP_TEST_BACKENDS=spatialite $(PY) -m pytest -q -n 0 tests/test_grid_actions_browser.py -k phone_width
	cp tests/screenshots/grid_phone_390_spatialite.png docs/screenshots/grid_phone.png

bench: $(STAMP) postgres
	$(PY) -m bench $(BENCH_ARGS)

demo: $(STAMP)
	$(PY) -m gis demo $(DEMO_ARGS)

# The primary's database (created when missing, the demo built into it when empty); CLUSTER_ARGS e.g.
# "--apps 3", "--own-primary 5434" (a private primary: the server on 5432 untouched), "--no-replica".
CLUSTER_DIR ?= /tmp/gridmap-cluster
CLUSTER_DATABASE ?= postgresql+psycopg://postgres@127.0.0.1:5432/gridmap
cluster: system-cluster $(STAMP) postgres
	$(PY) -m bench.cluster start --dir $(CLUSTER_DIR) --database $(CLUSTER_DATABASE) --demo 50000 $(CLUSTER_ARGS)

cluster-stop:
	$(PY) -m bench.cluster stop --dir $(CLUSTER_DIR)

# Runtime packages (make run); the test tools on top (make test). Each step reruns only when its file changed.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $(TEST_STAMP)

# Debian packages, installed only when missing.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi
endef

system-run:
	$(call apt_install,libsqlite3-mod-spatialite fonts-noto-cjk)

system-test:
	$(call apt_install,libsqlite3-mod-spatialite chromium fonts-noto-cjk poppler-utils nginx)

system-cluster:
	$(call apt_install,libsqlite3-mod-spatialite fonts-noto-cjk nginx)

# PostgreSQL + PostGIS for the tests: use the server on 127.0.0.1:5432 if one runs, else install
# and start Debian's, with trust authentication on the loopback (a test machine only).
postgres:
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  $(MAKE) --no-print-directory _postgis; \
	else \
	  $(MAKE) --no-print-directory _postgres_server _postgis; \
	fi

_postgis:
	$(call apt_install,postgresql-$(PG_VERSION)-postgis-3)

_postgres_server:
	$(call apt_install,postgresql-$(PG_VERSION) postgresql-client-$(PG_VERSION))
	@hba=/etc/postgresql/$(PG_VERSION)/main/pg_hba.conf; \
	grep -q '^host all all 127.0.0.1/32 trust' $$hba || sed -i '1i host all all 127.0.0.1/32 trust' $$hba
	pg_ctlcluster --skip-systemctl-redirect $(PG_VERSION) main start || pg_ctlcluster $(PG_VERSION) main restart
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done

clean:
	rm -rf $(VENV) data/gridmap.sqlite* data/shapefiles/demo
