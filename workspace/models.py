from django.db import models


class Macro(models.Model):
    """A canned reply. Placeholders such as {{ requester.name }} are filled by
    workspace.macros.macro_render (a fixed substitution, never template rendering)."""

    name = models.CharField(max_length=100, unique=True)
    body = models.TextField()
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
