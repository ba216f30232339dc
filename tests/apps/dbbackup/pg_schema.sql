CREATE SCHEMA extra;
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy', 'it''s complicated');
CREATE DOMAIN public.positive_int AS integer CHECK (VALUE > 0);
CREATE SEQUENCE public.invoice_number START 1000 INCREMENT 7;
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;

CREATE TABLE public.customers (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 3) PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name varchar(200) COLLATE "C",
    mood public.mood DEFAULT 'ok',
    balance numeric(30, 10) NOT NULL DEFAULT 0 CHECK (balance > -1000),
    score double precision,
    ratio real,
    born date,
    wakes time,
    last_seen timestamptz,
    local_at timestamp(3),
    wait interval,
    avatar bytea,
    prefs jsonb,
    raw_prefs json,
    tags text[],
    ip inet,
    uid uuid,
    flags bit varying(16),
    active boolean,
    updated_at timestamptz,
    name_length integer GENERATED ALWAYS AS (length(name)) STORED
);
COMMENT ON TABLE public.customers IS 'People who buy; it''s a comment';
COMMENT ON COLUMN public.customers.prefs IS 'Free-form settings';
CREATE INDEX customers_lower_email ON public.customers (lower(email));
CREATE INDEX customers_prefs ON public.customers USING gin (prefs);
CREATE TRIGGER customers_touch BEFORE UPDATE ON public.customers
    FOR EACH ROW EXECUTE FUNCTION public.touch();

CREATE TABLE public.orders (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES public.customers (id) ON DELETE CASCADE,
    number integer NOT NULL DEFAULT nextval('public.invoice_number'),
    quantity public.positive_int,
    placed_at timestamptz NOT NULL DEFAULT now(),
    note text,
    UNIQUE (customer_id, number)
);
CREATE INDEX orders_partial ON public.orders (placed_at) WHERE note IS NOT NULL;

-- A cycle: departments.manager -> employees, employees.department -> departments,
-- and a self-reference employees.mentor -> employees.
CREATE TABLE extra.departments (
    id integer PRIMARY KEY,
    title text NOT NULL,
    manager_id integer
);
CREATE TABLE extra.employees (
    id integer PRIMARY KEY,
    department_id integer NOT NULL REFERENCES extra.departments (id),
    mentor_id integer REFERENCES extra.employees (id),
    "Odd ""Name"" Column" text
);
ALTER TABLE extra.departments ADD CONSTRAINT departments_manager_fk
    FOREIGN KEY (manager_id) REFERENCES extra.employees (id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE public.big (
    id bigint PRIMARY KEY,
    customer_id bigint REFERENCES public.customers (id),
    amount numeric(12, 2) NOT NULL,
    label text,
    at timestamptz NOT NULL
);
CREATE INDEX big_at ON public.big (at);

CREATE TABLE public."empty table" (id int);

CREATE VIEW public.customer_totals AS
    SELECT c.id, c.email, count(o.id) AS orders FROM public.customers c
    LEFT JOIN public.orders o ON o.customer_id = c.id GROUP BY c.id, c.email;
CREATE VIEW public.big_customers AS SELECT * FROM public.customer_totals WHERE orders > 1;
CREATE MATERIALIZED VIEW public.order_days AS
    SELECT date_trunc('day', placed_at) AS day, count(*) AS n FROM public.orders GROUP BY 1;
