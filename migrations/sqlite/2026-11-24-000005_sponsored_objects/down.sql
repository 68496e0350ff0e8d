DROP TABLE sponsored_objects;
