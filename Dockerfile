FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN SECRET_KEY=build DATABASE_URL=postgresql://x@localhost/x REDIS_URL=redis://localhost \
    python manage.py collectstatic --noinput -v 0
EXPOSE 8000
# docker-compose.yml's web command passes the same config file.
CMD ["gunicorn", "support_desk.wsgi", "-c", "support_desk/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "4"]
