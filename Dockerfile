# pgshim on Debian 12, built from this checkout.
FROM debian:12 AS build
COPY . /src
WORKDIR /src
RUN bash scripts/deps.sh && cmake -S . -B build -G Ninja -DPGSHIM_TESTS=OFF -DPGSHIM_BENCH=OFF \
    && cmake --build build --target pgshim

FROM debian:12
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libboost1.81-dev libspdlog1.10 libfmt9 libyaml-cpp0.7 libssl3 libprotobuf-c1 liburing2 postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/proxy/pgshim /usr/local/bin/pgshim
ENTRYPOINT ["/usr/local/bin/pgshim"]
CMD ["serve", "--config", "/etc/pgshim/pgshim.yaml"]
