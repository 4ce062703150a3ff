export { hashingVector, words } from './hashing-vector';
