-- ASP.NET Core data protection keys (the dashboard's sign-in cookie is encrypted with them),
-- shared by every node of the cluster so a cookie issued by one node is read by all.
CREATE TABLE data_protection_keys (
    name        text        PRIMARY KEY,
    xml         text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
