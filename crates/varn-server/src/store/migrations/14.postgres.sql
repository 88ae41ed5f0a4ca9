
ALTER TABLE centre_state ADD COLUMN receivers TEXT NOT NULL DEFAULT '[]';
