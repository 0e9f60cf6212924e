import { extraHeadersWorker } from "./extra-headers";

export default extraHeadersWorker(0, false);
