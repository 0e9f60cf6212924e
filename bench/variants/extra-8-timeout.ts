import { extraHeadersWorker } from "./extra-headers";

export default extraHeadersWorker(8, true);
