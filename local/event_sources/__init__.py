"""What Lambda's event source mappings do, for `make run`: the pump polling the queues and the
users table's stream and invoking the app's handlers (pump.py, stream.py), Lambda's event shapes
(events.py), the pump in a process of its own (deliver.py), and `make redrive`: dead letters
back to their queues (redrive.py).
"""
