"""Operations behind the ``simple-worker`` command line (queues, stats, dead letters, local SQS).

Pure functions over a broker: they return results and report progress through callbacks;
they never print, read the environment or exit (the CLI does).
"""
