from django.http import HttpResponse
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

SEEDED: list = []


def index(request):
    return HttpResponse("plugged")


class PluggedViewSet(viewsets.ViewSet):
    permission_classes = [IsAuthenticated]

    def list(self, request):
        return Response({"plugged": True})


def seed(demo) -> None:
    """Runs after the organisation's seed: the hub exists already."""
    SEEDED.append(sorted(demo.units))
    demo.counts["plugged"] = 1
