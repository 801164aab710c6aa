"""Real servers the tests start on 127.0.0.1 with random ports, and stop by their PID."""
