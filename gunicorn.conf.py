"""gunicorn settings for production: gunicorn -c gunicorn.conf.py 'tracker:create_app()'

Threaded workers keep the site responsive while a long PDF renders: a render occupies one thread,
and the other threads and workers go on serving pages.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# A 5,000-action summary takes seconds, not minutes; anything slower is a fault worth killing.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
max_requests = 1000  # recycle workers now and then, so memory from large documents is returned
max_requests_jitter = 100
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
# Calendar-feed addresses carry their secret in the path: the access log shows it as [secret].
logger_class = "tracker.access_log.GunicornLogger"
errorlog = "-"


def post_worker_init(worker):
    """The app is loaded: its long-lived objects are put out of the garbage collector's reach."""
    from tracker.workers import freeze_loaded_objects

    freeze_loaded_objects()
