"""What the bot reads and writes on GitHub: clients, operations and webhook event models."""
