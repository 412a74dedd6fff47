import { queryAcceptance } from "../integration/query/acceptance.js";
import { sourceAcceptanceSuite } from "./source-suite.js";

sourceAcceptanceSuite(queryAcceptance("postgres"));
