import datetime
import logging
import time

from django.db import InterfaceError, OperationalError, connections
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("core.tasks")

# A task still "running" this long after it started lost its worker (killed,
# machine restarted): mail is sent within EMAIL_TIMEOUT, every task of the
# portal within seconds.
STALE_AFTER = datetime.timedelta(minutes=15)
# Waits between two tries while the database does not answer, in seconds.
OUTAGE_WAITS = [1, 2, 5, 10, 30]


def requeue_stale_tasks() -> int:
    """Make the tasks a dead worker left "running" ready again; return how
    many. Their work is idempotent (a mail already sent is not sent again)."""
    stale = DBTaskResult.objects.running().filter(
        started_at__lt=timezone.now() - STALE_AFTER
    )
    return stale.update(status="READY", started_at=None)


class Command(db_worker.Command):
    help = (
        "Lance le processus qui exécute les tâches d'arrière-plan (envoi des "
        "courriels…), à démarrer à côté de gunicorn. Au démarrage, les tâches "
        "laissées « en cours » par un processus arrêté brutalement sont remises "
        "en file d'attente. Une panne de la base ne l'arrête pas : il attend "
        "qu'elle revienne."
    )

    def handle(self, *args, **options):
        failures = 0
        while True:
            started = time.monotonic()
            try:
                requeued = requeue_stale_tasks()
                if requeued:
                    self.stdout.write(
                        f"{requeued} tâche(s) interrompue(s) remise(s) en file."
                    )
                super().handle(*args, **options)
                return
            except (OperationalError, InterfaceError):
                if time.monotonic() - started > OUTAGE_WAITS[-1]:
                    failures = 0  # a new outage: short waits first
                wait = OUTAGE_WAITS[min(failures, len(OUTAGE_WAITS) - 1)]
                failures += 1
                logger.warning("database unavailable: next try in %s s", wait)
                connections.close_all()
                time.sleep(wait)
