"""The reference for `api_create`: a minimal Django + DRF endpoint that validates a JSON
body and inserts one row, served by gunicorn exactly like Support Desk (DESIGN §7)."""

import os

import dj_database_url
from django.db import connection
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
USE_TZ = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}


class ItemSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField()


class ItemView(APIView):
    def post(self, request):
        serializer = ItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_minimal_item (subject, description) "
                "VALUES (%s, %s) RETURNING id",
                [serializer.validated_data["subject"], serializer.validated_data["description"]],
            )
            (item_id,) = cursor.fetchone()
        return Response({"id": item_id, **serializer.validated_data}, status=201)


urlpatterns = [path("items", ItemView.as_view())]

CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_minimal_item "
    "(id bigserial PRIMARY KEY, subject varchar(200), description text, "
    "created_at timestamptz DEFAULT now())"
)
