-- A run whose last check updates GitHub did not take: the background
-- sends its conclusions again until they are taken, so no check stays in
-- progress.
ALTER TABLE runs ADD COLUMN checks_unsent BOOLEAN NOT NULL DEFAULT FALSE;
