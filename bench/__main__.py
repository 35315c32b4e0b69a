"""`python -m bench`: the same suite as `civic bench`."""

from bench.cli import bench

if __name__ == "__main__":
    bench(prog_name="python -m bench")
