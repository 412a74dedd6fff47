import { outboxSpec } from "../../src/sources/outbox/index.js";
import { outboxAcceptance } from "../integration/outbox/acceptance.js";
import { sourceAcceptanceSuite } from "./source-suite.js";

sourceAcceptanceSuite(outboxAcceptance("mariadb", outboxSpec));
