import { sqlSinkSuiteHarness } from "../integration/sinks/sql-fixture.js";
import { sinkAcceptanceSuite } from "./sink-suite.js";

sinkAcceptanceSuite(sqlSinkSuiteHarness("postgres"));
