import { extraHeadersWorker } from "./extra-headers";

export default extraHeadersWorker(16, false);
