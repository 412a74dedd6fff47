import { bullmqSinkSuiteHarness } from "../integration/sinks/bullmq-fixture.js";
import { sinkAcceptanceSuite } from "./sink-suite.js";

sinkAcceptanceSuite(bullmqSinkSuiteHarness());
