"""The figures of docs/scaling.md: `bench/scaling/measure.sh` and the requests it counts."""
