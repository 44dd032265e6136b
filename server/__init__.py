"""dealergate server: arrivals from MQTT → matched to customers → pushed to the store's screens.

Layout: `config` (settings), `db` / `models` (storage), `matching` / `renewal` / `alerts` (the
rules, renewal being pure), `ingest` (MQTT in), `push` (WebSocket out), `auth`, `api/` (routes),
`seed` (demo data), `main` (app factory and `run_server`).
"""
