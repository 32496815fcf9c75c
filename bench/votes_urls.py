"""shipwith's URLs plus the baseline of bench/votes_http.py: a bare view doing one INSERT."""

from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_votes_baseline"


@csrf_exempt
def one_insert(request):
    """The least a vote could cost: Django's middleware and one INSERT in a transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (voter, tool, value) VALUES (%s, %s, %s)",
            [
                request.POST.get("voter", ""),
                request.POST.get("tool", ""),
                request.POST.get("value", ""),
            ],
        )
    return HttpResponse("ok")


urlpatterns = [path("bench/one-insert/", one_insert), path("", include("shipwith.urls"))]
