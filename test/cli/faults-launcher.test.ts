// Faults with steps started from the launcher program of large jobs (test/helpers/fault-suite.ts).
import { defineFaultSuite } from '../helpers/fault-suite.js';

defineFaultSuite('process');
