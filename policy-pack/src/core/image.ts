/** Container image references: the contract's parser (contract/image-reference.ts). */
export { type ImageRef, imageBaseName, parseImage } from "../contract/image-reference";
