CREATE TABLE customers (
    id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email varchar(190) NOT NULL UNIQUE,
    name varchar(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    legacy varchar(50) CHARACTER SET latin1,
    mood enum('sad', 'ok', 'happy', 'it''s complicated') DEFAULT 'ok',
    perms set('read', 'write', 'admin'),
    balance decimal(30, 10) NOT NULL DEFAULT 0 CHECK (balance > -1000),
    score double,
    ratio float,
    tiny tinyint,
    big bigint,
    born date,
    wakes time(6),
    last_seen timestamp(6) NULL DEFAULT NULL,
    local_at datetime(3),
    yr year,
    avatar blob,
    token binary(4),
    flags bit(10),
    prefs json,
    notes longtext,
    spot point,
    name_length int GENERATED ALWAYS AS (char_length(name)) VIRTUAL,
    KEY customers_name (name(20)),
    FULLTEXT KEY customers_notes (notes)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='People who buy; it''s a comment';

CREATE TABLE orders (
    id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
    customer_id bigint unsigned NOT NULL,
    placed_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    note text,
    CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB AUTO_INCREMENT=1000;

CREATE TABLE departments (
    id int PRIMARY KEY,
    title varchar(100) NOT NULL,
    manager_id int
) ENGINE=InnoDB;
CREATE TABLE employees (
    id int PRIMARY KEY,
    department_id int NOT NULL,
    mentor_id int,
    `odd ``name`` column` text,
    CONSTRAINT employees_department FOREIGN KEY (department_id) REFERENCES departments (id),
    CONSTRAINT employees_mentor FOREIGN KEY (mentor_id) REFERENCES employees (id)
) ENGINE=InnoDB;
ALTER TABLE departments ADD CONSTRAINT departments_manager
    FOREIGN KEY (manager_id) REFERENCES employees (id);

CREATE TABLE big (
    id int NOT NULL PRIMARY KEY,
    customer_id bigint unsigned,
    amount decimal(12, 2) NOT NULL,
    label varchar(100),
    at datetime(6) NOT NULL,
    KEY big_at (at),
    CONSTRAINT big_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB;

CREATE TABLE `empty table` (id int) ENGINE=MyISAM;

CREATE VIEW customer_totals AS
    SELECT c.id, c.email, count(o.id) AS orders FROM customers c
    LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.email;
CREATE VIEW big_customers AS SELECT * FROM customer_totals WHERE orders > 1;

DELIMITER ;;
CREATE FUNCTION double_it(x int) RETURNS int DETERMINISTIC
BEGIN
    RETURN x * 2;
END;;
CREATE PROCEDURE count_orders(OUT n int)
BEGIN
    SELECT count(*) INTO n FROM orders;
END;;
CREATE TRIGGER orders_note BEFORE INSERT ON orders FOR EACH ROW
BEGIN
    IF NEW.note = '' THEN SET NEW.note = NULL; END IF;
END;;
DELIMITER ;
