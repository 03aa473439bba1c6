"""The `make run` process (`python -m local`, local/__main__.py) and its state: `chalice local`
hardened (serve.py), the ports (ports.py), the console and its outbox of emails (console.py,
outbox.py), what is made before the first request (warm.py), and the local data kept in
.local-state/ across restarts (state.py, pickled by moto_pickle.py).
"""
