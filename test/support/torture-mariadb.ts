/** The torture table both the schema layer's and the binlog source's MariaDB tests fill with edge values. */
export const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
/** The largest DECIMAL(65,30). */
export const DEC_MAX = `${"9".repeat(35)}.${"9".repeat(30)}`;

/** Every MariaDB type of the mapping, each column nullable: the schema issue's torture table. */
export const TORTURE_DDL = `
  CREATE TABLE torture (
    id INT NOT NULL PRIMARY KEY,
    dec65 DECIMAL(65,30) NULL, dec_small DECIMAL(10,2) NULL, dec_plain DECIMAL NULL,
    big_u BIGINT UNSIGNED NULL, big_s BIGINT NULL, int_u INT UNSIGNED NULL, int_s INT NULL,
    tiny TINYINT NULL, tiny1 TINYINT(1) NULL, small_u SMALLINT UNSIGNED NULL, medium MEDIUMINT NULL,
    flt FLOAT NULL, dbl DOUBLE NULL,
    dt DATETIME(6) NULL, dt0 DATETIME NULL, ts TIMESTAMP(6) NULL DEFAULT NULL, d DATE NULL, t TIME(6) NULL, y YEAR NULL,
    ch CHAR(10) NULL, vc VARCHAR(100) NULL, txt TEXT NULL, mtxt MEDIUMTEXT NULL,
    bin BINARY(4) NULL, vbin VARBINARY(300) NULL, blb BLOB NULL, lblb LONGBLOB NULL,
    j JSON NULL,
    e ENUM('small','medium','large','x-large','it''s') NULL, s SET('a','b','c','d') NULL,
    bit1 BIT(1) NULL, bit64 BIT(64) NULL, bit10 BIT(10) NULL,
    u UUID NULL, ip4 INET4 NULL, ip6 INET6 NULL,
    req VARCHAR(10) NOT NULL DEFAULT 'x'
  ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
