// Faults with steps started from the orchestrator's own process, and the faults that do not depend on the
// launcher (test/helpers/fault-suite.ts).
import { defineFaultSuite } from '../helpers/fault-suite.js';

defineFaultSuite('local');
