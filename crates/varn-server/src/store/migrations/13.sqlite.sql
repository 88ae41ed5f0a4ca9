
UPDATE report_facts SET event = 'corruption' WHERE event = 'improper_influence';
