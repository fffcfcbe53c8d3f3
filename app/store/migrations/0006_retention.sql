-- Log lines and deliveries expire after the retention period: the pruner
-- finds them by time.
CREATE INDEX log_lines_logged_at ON log_lines (logged_at);
CREATE INDEX deliveries_processed_at ON deliveries (processed_at);
