# Builds the four services on Debian bookworm from Debian's packages, then copies the binaries
# into a slim runtime image. compose.yaml and compose.ha.yaml run one container per service from
# it. Only the services are compiled (no tests, no tools), in parallel.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
      librabbitmq-dev libuv1-dev libhiredis-dev rapidjson-dev libpistache-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY api api
COPY shared shared
COPY publisher publisher
COPY subscribers subscribers
COPY tools tools
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DOFFERS_TESTS=OFF -DOFFERS_FAULT_POINTS=OFF \
 && cmake --build /build -j"$(nproc)" --target special-offers loyalty notifications statistics \
 && strip /build/bin/special-offers /build/bin/loyalty /build/bin/notifications /build/bin/statistics

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends librabbitmq4 libuv1 libhiredis0.14 libpistache0 curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/special-offers /build/bin/loyalty /build/bin/notifications \
     /build/bin/statistics /usr/local/bin/
USER nobody
