/** The eight steps, in the order they run. */
import type { Step } from '../types.js';
import { apprenticeBuildStep } from './apprentice-build.js';
import { completeStep } from './complete.js';
import { coordinatorPackageStep } from './coordinator-package.js';
import { deployerStep } from './deployer.js';
import { intentStep } from './intent.js';
import { registryUpdateStep } from './registry-update.js';
import { specGenerationStep } from './spec-generation.js';
import { verifierStep } from './verifier.js';

export const STEPS: readonly Step[] = [
  intentStep,
  specGenerationStep,
  coordinatorPackageStep,
  apprenticeBuildStep,
  verifierStep,
  deployerStep,
  registryUpdateStep,
  completeStep,
];
