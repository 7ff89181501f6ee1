FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    FAULTLINE_RUN_DIR=/var/lib/faultline STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/var/lib/faultline/media
WORKDIR /app
RUN useradd --create-home --uid 1000 faultline && mkdir -p /var/lib/faultline/media \
    && chown -R faultline /var/lib/faultline
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# collectstatic needs settings that import cleanly; the key is a build-time throwaway.
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput -v 0
USER faultline
EXPOSE 8000
# The timeout fits what stays synchronous (streamed exports, releases); imports are jobs.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "120", \
     "--graceful-timeout", "30", "--access-logfile", "-"]
