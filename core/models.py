from django.db import models


class RateCounter(models.Model):
    """One client's hits in one window of a rate limit (core/ratelimit.py):
    removed once the window has ended, never to make room."""

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "compteur de limite de débit"
        verbose_name_plural = "compteurs de limite de débit"

    def __str__(self):
        return self.key


class Mail(models.Model):
    """A message to send, written in the same transaction as the row it is
    about and sent by the task worker (core/mail.py): the outbox. It stays
    here, with its attempts and last error, until purged."""

    class Status(models.TextChoices):
        PENDING = "pending", "en attente"
        SENT = "sent", "envoyé"
        FAILED = "failed", "échec définitif"

    kind = models.CharField("nature", max_length=40)
    subject = models.CharField("objet", max_length=250)
    body = models.TextField("texte")
    recipients = models.TextField("destinataires", help_text="Une adresse par ligne.")
    reply_to = models.EmailField("répondre à", blank=True)
    status = models.CharField(
        "état", max_length=10, choices=Status, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    last_error = models.TextField("dernière erreur", blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "courriel"
        verbose_name_plural = "courriels"
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sent", "failed"]),
                name="mail_status_known",
            ),
        ]

    def __str__(self):
        return self.subject

    @property
    def recipient_list(self):
        return [line for line in self.recipients.splitlines() if line.strip()]
