-- Delivery bodies are emptied after TRIAD_DELIVERY_RETENTION_DAYS, while the record stays with the
-- time its body was pruned.
ALTER TABLE deliveries ADD COLUMN body_pruned_at REAL;

CREATE INDEX deliveries_received ON deliveries (received_at);
